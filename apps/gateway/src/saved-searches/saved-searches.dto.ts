import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsNumber, IsOptional, IsString, Length, Min } from 'class-validator';

export class CreateSavedSearchRequest {
  @IsArray({ message: 'keywords must be an array of 1 to 10 strings' })
  @ArrayMinSize(1, { message: 'keywords must be an array of 1 to 10 strings' })
  @ArrayMaxSize(10, { message: 'keywords must be an array of 1 to 10 strings' })
  @IsString({ each: true, message: 'keywords must be an array of 1 to 10 strings' })
  @Length(1, 100, { each: true, message: 'each keyword must be 1 to 100 characters' })
  keywords!: string[];

  @IsOptional()
  @IsString()
  @Length(1, 200)
  location?: string;

  @IsOptional()
  @IsBoolean()
  remote?: boolean;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  minSalary?: number;
}
