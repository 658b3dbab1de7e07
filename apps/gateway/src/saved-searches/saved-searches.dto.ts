import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsNumber, IsString, Length, Min, ValidateIf } from 'class-validator';

/**
 * Optional, but `null` is refused like any other wrong type (IsOptional lets it
 * through, and a stored `location: null` would break every posting the search is matched against).
 */
const IsOptionalNotNull = () => ValidateIf((_search: object, value: unknown) => value !== undefined);

export class CreateSavedSearchRequest {
  @IsArray({ message: 'keywords must be an array of 1 to 10 strings' })
  @ArrayMinSize(1, { message: 'keywords must be an array of 1 to 10 strings' })
  @ArrayMaxSize(10, { message: 'keywords must be an array of 1 to 10 strings' })
  @IsString({ each: true, message: 'keywords must be an array of 1 to 10 strings' })
  @Length(1, 100, { each: true, message: 'each keyword must be 1 to 100 characters' })
  keywords!: string[];

  @IsOptionalNotNull()
  @IsString()
  @Length(1, 200)
  location?: string;

  @IsOptionalNotNull()
  @IsBoolean()
  remote?: boolean;

  @IsOptionalNotNull()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  minSalary?: number;
}
